SCIFLOW_BIN=$SCIFLOW_BIN bash "$SCIFLOW_SRC/examples/self-check.sh" | wc -l
