"""Parameter estimation on PEtab problems: the objective on cytonet's engine, multistart fits, profile likelihoods.

``load_problem(path)`` reads a PEtab problem (with ``petab``), ``Objective(problem)`` evaluates
PEtab's negative log-likelihood, chi2, residuals and their derivatives on stacks of parameter
vectors, ``multistart`` and ``profiles`` fit and bound the parameters. ``cytonet fit`` is the CLI.
"""
