"""Services of the certificates app: plain functions (STYLE G5)."""
