# SPDX-License-Identifier: MPL-2.0
"""The benchmarks (bench/README.md), each a module run from the top of
the source tree: `/usr/bin/python3 -m bench.querycost`, ... (or with
the tree in PYTHONPATH).  They start their servers with the lab
package (lab/), as the system tests do.
"""
