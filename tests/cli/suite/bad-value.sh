wfrun --color=sometimes
