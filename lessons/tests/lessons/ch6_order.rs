// Tests of lesson ch6_order: not written yet.
