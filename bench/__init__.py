"""`make bench` (`python -m bench`): ratios of the emulator against ceilings and peers, measured in one run.

Never part of `make test`. Generated data, peer installs and servers' data dirs live in bench/.work/
(git-ignored). See the README, "Performance", for the table, the commands and what bounds each number.
"""
