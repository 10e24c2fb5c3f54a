"""Orthodontic case tracking: the appliance, phases with planned and actual dates,
milestones, visits and aligner changes, progress photo series, and the alerts they raise."""
