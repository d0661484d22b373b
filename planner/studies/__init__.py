"""What-if batch studies: many scenario variants, run on local processes or a Dask cluster."""
