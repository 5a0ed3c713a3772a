"""Built-in registry kind ``sql_table``: a database table (or query) as a registry.

:mod:`.source` is the seam between the kind and its database engines (:mod:`.sqlite`,
:mod:`.postgres`); :mod:`.snapshot` writes a table's sealed snapshot run; :mod:`.row_diff`
compares two snapshots row by row; :mod:`.plugin` is the plugin govern registers.
"""
