"""The lab: anycast-health's fleet (lab.py) and its small internet
(lab/internet/) in network namespaces."""
