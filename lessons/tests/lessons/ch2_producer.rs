// Tests of lesson ch2_producer: not written yet.
