"""The real-tool suites: the Crossplane CLI and core, kube-apiserver, etcd."""
