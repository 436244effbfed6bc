"""Names the dead-code check (vulture, in CI) cannot see used, and why each is used all the same.

Only what is used where vulture does not look belongs here: dead code is deleted, not listed.
"""

from vulture.whitelist_utils import Whitelist

_ = Whitelist()

# llama.cpp's C structs (ctypes): the fields are set for the library to read.
_.n_batch
_.n_ubatch
_.n_threads
_.n_threads_batch
_.n_tokens
_.n_seq_max
_.kv_unified
_.flash_attn_type
_.swa_full
_.n_gpu_layers
_.use_extra_bufts
_.nthread
_.allow_requantize

# transformers reads the rotary embedding's scaling from the module.
_.attention_scaling

# Textual reads these widget attributes and calls these hooks.
_.border_title
_.border_subtitle
_.cursor_type
_.zebra_stripes
_.max_width  # a style
_.highlighted  # an OptionList's cursor
_.active  # a TabbedContent's tab
_.discover  # a command palette provider's suggestions
_.display  # whether a widget takes part in the layout
_.disabled  # a button that cannot be pressed
_.watch_scroll_y  # a reactive's watcher (the logs follow their newest line)
_.render_line  # a line-API widget's rows
_.can_replace  # whether a newer message may replace one still queued (a status)

# textual-serve's Server builds its web app by calling this method, which ttwood serve overrides.
_._make_app

# Signatures a caller imposes: a log callback's level, a signal handler's frame, __exit__'s
# traceback, pytest's hook argument.
_.level
_.frame
_.tb
_.exitstatus

# A pytest fixture that applies itself (autouse): no test names it.
_.steady_clock

# The save format: a table SQLModel registers by defining it, and a column of one.
_.MetaRow
_.contract_id

# State written for the record: saved, restored and compared by name (engine.world.state lists
# the fields; engine.turn.game reads last_gini back through take(state, "last_gini")).
_.left_turn
_.original_qty
_.last_gini

# A scenario's rumour says whether it is true, for the record and the player (parsed from TOML).
_.true

# The standard library's HTTP server calls these on a handler (tests' fake server).
_.log_message
_.do_POST
_.daemon_threads

# Attributes tests set on purpose, to see that the save format refuses a field it does not know.
_.mood
_.weather

# pydantic models' fields that validation reads from the data (a save's tape, a sweep's tables).
_.latency_ms
_.reference_prices
_.forced_tokens
_.grammar_full_passes
_.shared_prefix_tokens
