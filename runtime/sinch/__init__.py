"""The Sinch REST client and what uses it: callouts, call control, unpark and deploy."""
