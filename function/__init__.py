"""Crossplane composition function for vCluster environments behind AWS API Gateway.

The folders are the pipeline's layers, each importing only from those below it:
``model`` (typed spec, keys, names, views of observed state), ``builders`` (one pure
module per concern), the pipeline itself (``compose``, ``ordering``, ``status``),
``serving`` (gRPC) and ``offline`` (render and simulate without a cluster); ``main``
is the command line on top.
"""
