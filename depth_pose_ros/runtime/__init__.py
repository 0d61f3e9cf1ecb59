"""The per-frame path (numpy + OpenVINO only): reprojection into the network's view, person
isolation, input encoding, the estimator, the pipeline and the people tracker."""
