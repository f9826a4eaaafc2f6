"""The baseline for the callback benchmark: a bare Starlette endpoint that returns one fixed SVAML body."""
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

# The size and shape of a typical ivrc answer (a prompt and a one-level menu).
BODY = (b'{"instructions":[{"name":"setCookie","key":"ivrc","value":"support|80fb38cf2a5c|main_menu|0|en-US"},'
        b'{"name":"playFiles","ids":["#tts[Welcome to Acme support.]"],"locale":"en-US"}],"action":{"name":"runMenu",'
        b'"barge":true,"locale":"en-US","mainMenu":"main","menus":[{"id":"main","mainPrompt":"#tts[For billing, press 1. '
        b'For technical support, press 2. To leave a message, press 3.]","repeats":0,"timeoutMills":5000,"options":'
        b'[{"dtmf":"1","action":"return(support.main_menu.1)"},{"dtmf":"2","action":"return(support.main_menu.2)"},'
        b'{"dtmf":"3","action":"return(support.main_menu.3)"}]}]}}')


async def callback(request):
    await request.body()
    return Response(BODY, media_type="application/json")


async def health(request):
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(routes=[Route("/sinch/callback", callback, methods=["POST"]), Route("/healthz", health)])
