"""The reach and equity dashboard (issue 13): activity, reach, outcomes, drift, data quality."""
