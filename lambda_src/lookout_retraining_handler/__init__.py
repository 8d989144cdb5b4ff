"""Lambda handler for Custom::LookoutEquipmentRetrainingScheduler, and its shared rules."""
