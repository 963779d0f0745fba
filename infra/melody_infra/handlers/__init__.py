"""Lambda handlers that belong to the deployment itself (custom resources), packaged from this folder."""
