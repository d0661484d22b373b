"""The SimPy discrete-event model of a training cluster. Returns data; knows no terminal or report."""
