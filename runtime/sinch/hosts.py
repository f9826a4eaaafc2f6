"""Where Sinch's Voice API lives: regional hosts, the configuration host, and the settings that choose them."""
from ivrc.runtime.signing import KEY_ENV, SECRET_ENV

# Reference section 1: traffic (calls, callouts, conferences) goes to a regional host; the
# global one is redirected by Sinch to a suitable region. Configuration has its own host.
REGIONS: dict[str, str] = {
    "global": "https://calling.api.sinch.com",
    "use1": "https://calling-use1.api.sinch.com",
    "euc1": "https://calling-euc1.api.sinch.com",
    "apse1": "https://calling-apse1.api.sinch.com",
    "apse2": "https://calling-apse2.api.sinch.com",
    "sae1": "https://calling-sae1.api.sinch.com",
}
REGION_NAMES = {"global": "Sinch picks the region", "use1": "North America", "euc1": "Europe",
                "apse1": "Southeast Asia 1", "apse2": "Southeast Asia 2", "sae1": "South America"}
CONFIG_URL = "https://callingapi.sinch.com"

API_URL_ENV, CONFIG_URL_ENV, REGION_ENV = "SINCH_API_URL", "SINCH_CONFIG_API_URL", "SINCH_REGION"

__all__ = ["API_URL_ENV", "CONFIG_URL", "CONFIG_URL_ENV", "KEY_ENV", "REGION_ENV", "REGION_NAMES", "REGIONS",
           "SECRET_ENV"]
