tezip --self-check --json
