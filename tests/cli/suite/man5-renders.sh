# File-format pages render without groff warnings.
for page in "$SCIFLOW_SRC"/man/*.5; do
  groff -man -Tutf8 -ww -z "$page" || exit 1
  MANWIDTH=80 man -l "$page" | grep -q '^NAME' || { echo "no NAME in $page"; exit 1; }
done
echo ok
