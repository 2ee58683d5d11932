"""Security risk: levels, the risk matrix, what raises a threat's severity, CVSS vectors."""
