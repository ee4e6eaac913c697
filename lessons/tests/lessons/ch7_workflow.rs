// Tests of lesson ch7_workflow: not written yet.
