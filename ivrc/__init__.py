"""ivrc: phone IVRs as code for the Sinch Voice API (the command-line front end)."""
