"""Prefect flows that wire the stages in newsdedup.tasks over batches."""
