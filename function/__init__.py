"""Crossplane composition function for vCluster environments behind AWS API Gateway."""
