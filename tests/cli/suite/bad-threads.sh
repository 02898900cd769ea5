dxfer -j -3 --version
