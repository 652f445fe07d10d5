"""Routes and API design (FAPI1xx): what each route declares, answers and shadows."""
