"""Adapters: the AWS, database, SMS and HTTP implementations of the domain's ports."""
