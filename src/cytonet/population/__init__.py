"""Virtual patient populations: sampling, rest states, runs and summaries (outcomes: cytonet.analysis.outcomes; storage: cytonet.store.runs)."""
