vindex --version --json
