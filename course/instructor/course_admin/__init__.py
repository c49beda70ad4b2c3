"""The course-management tools around a deadline: release, collect, late days, manual grades,
adjustments, the class report and the Gradescope bundle."""
