"""What is trained: encoders (MLP, SIGN, GNN, table) and objectives (BASiS, NeuralEF), and a
Model that pairs them."""
