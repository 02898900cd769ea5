# The HTTPS example in examples/ runs as written.
bash "$SCIFLOW_SRC/examples/dxfer-serve.sh" > out.txt 2> err.txt || { cat out.txt err.txt; exit 1; }
sed -e 's|https://127.0.0.1:[0-9]*|URL|' -e 's|sha256//[A-Za-z0-9+/=]*|PIN|' -e 's/  [0-9a-f]\{16\}  /  HASH  /' out.txt
