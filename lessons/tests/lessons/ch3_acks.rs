// Tests of lesson ch3_acks: not written yet.
