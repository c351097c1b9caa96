"""Public feeds of the published alerts, for feed readers, festival sites and other services."""
