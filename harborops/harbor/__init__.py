"""Harbor REST API client (no Django). See capabilities.py, client.py, contract.py."""
