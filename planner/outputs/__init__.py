"""Output folders: the name of every file (layout), atomic writing, summary.json and the tidy
tables of a run, and the writers of the run and optimize folders."""
