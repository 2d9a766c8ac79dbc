"""Worker side of Trainyard: the Celery app, its tasks and the trainers (TensorFlow, gensim)."""
