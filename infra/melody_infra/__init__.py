"""The Melody Studio CDK app: one stack per concern (data, auth key material, HTTP API)."""
