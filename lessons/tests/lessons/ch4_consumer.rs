// Tests of lesson ch4_consumer: not written yet.
