"""Misbehaving hook functions the simulator's scenarios put in place of a real one."""
