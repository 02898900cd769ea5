# cmake --install puts binaries, man pages and completions in the usual places.
build=$(dirname "$SCIFLOW_BIN")
cmake --install "$build" --prefix "$PWD/prefix" > /dev/null || exit 1
for f in bin/tezip bin/wfrun share/man/man1/tezip.1 share/man/man1/dxfer.1 \
         share/bash-completion/completions/tezip share/zsh/vendor-completions/_tezip \
         share/fish/vendor_completions.d/tezip.fish share/man/man5/tezip.5; do
  compgen -G "prefix/$f" > /dev/null || { echo "missing $f"; exit 1; }
done
find prefix -path "*hdf5/serial/plugins/libh5tezip.so" | grep -q . || { echo "missing the HDF5 plugin"; exit 1; }
prefix/bin/tezip --version
MANPATH=$PWD/prefix/share/man man -w tezip
