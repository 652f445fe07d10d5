"""Security (FAPI3xx): CORS, hosts, tokens, SQL, secrets, debug mode and leaked errors."""
