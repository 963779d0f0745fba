"""The local stack: moto for DynamoDB/S3, PostgreSQL, a dev signing key, and uvicorn."""
