"""The needle suite: many needles of different kinds (one-word, number, name, two-sentence,
paraphrased, with distractors, multi-needle), each hidden in the essays at several lengths
and depths, to measure evidence selection on questions it was never tuned on."""
