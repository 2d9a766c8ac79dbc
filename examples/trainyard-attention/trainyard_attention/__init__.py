"""trainyard-attention: a text classifier that pools a BiLSTM's states with Keras attention."""
__version__ = "0.1.0"
