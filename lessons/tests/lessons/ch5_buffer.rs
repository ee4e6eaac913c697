// Tests of lesson ch5_buffer: not written yet.
