# A write error on stdout is reported and fails the run (samtools-style check).
tezip --version > /dev/full
