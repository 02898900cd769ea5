trainctl --self-check
