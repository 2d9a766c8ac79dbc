"""Loading the data a job trains on (numpy only: no framework imports)."""
