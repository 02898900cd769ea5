for t in tezip dxfer vindex trainctl servectl wfrun; do $t --version; done
